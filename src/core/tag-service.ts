import { identityNotFound, invalidParameter } from './errors.js';
import { findIdentity } from './find-identity.js';
import type { IdentityStore } from './ports.js';
import type { Tag } from './schemas/common.js';
import type { IdentityPermission } from './schemas/identity.js';

const MAX_NAME_BYTES = 128;
const MAX_VALUE_BYTES = 4096;

/** The reference limits tags in bytes, which a JSON schema cannot say. */
export function checkTagSizes(tags: { name: string; value?: string }[], parameter: string): void {
  tags.forEach((tag, i) => {
    if (Buffer.byteLength(tag.name, 'utf8') > MAX_NAME_BYTES) {
      throw invalidParameter(`${parameter}[${i}].name`, `must be at most ${MAX_NAME_BYTES} bytes`);
    }
    if (tag.value !== undefined && Buffer.byteLength(tag.value, 'utf8') > MAX_VALUE_BYTES) {
      throw invalidParameter(`${parameter}[${i}].value`, `must be at most ${MAX_VALUE_BYTES} bytes`);
    }
  });
}

/** Tags (several values per name) and per-identity permissions. */
export class TagService {
  constructor(private readonly identities: IdentityStore) {}

  async add(identity: string, tags: Tag[], replace: boolean): Promise<void> {
    checkTagSizes(tags, 'tags');
    if (!(await this.identities.addTags(identity, tags, replace))) throw identityNotFound(identity);
  }

  async values(identity: string, name: string): Promise<string[]> {
    const values = await this.identities.tagValues(identity, name);
    if (!values) throw identityNotFound(identity);
    return values;
  }

  names(): Promise<string[]> {
    return this.identities.tagNames();
  }

  /** `value` lists the values to remove, separated by ","; without it the whole tag goes. */
  async remove(identity: string, name: string, value?: string): Promise<void> {
    const values = value === undefined ? undefined : value.split(',');
    if (!(await this.identities.removeTag(identity, name, values))) throw identityNotFound(identity);
  }

  async permission(identity: string): Promise<Required<IdentityPermission>> {
    const record = await findIdentity(this.identities, identity);
    return {
      subscript: record.permission.subscript ?? { identities: [] },
      publish_as: record.permission.publish_as ?? { identities: [] },
    };
  }

  /** Only the given permission entities are replaced. */
  async updatePermission(identity: string, permission: IdentityPermission): Promise<void> {
    if (!(await this.identities.updatePermission(identity, permission))) throw identityNotFound(identity);
  }
}
