import type { FieldCipher } from '../../adapters/crypto/field-cipher.ts';
import type { ClearFields } from '../../domain/nomination/intake.ts';

// Clear answers → the nomination's columns: ID numbers, phones and cards are encrypted with a keyed
// look-up hash beside them; nothing is stored in clear. Used by the dialog and the spreadsheet alike.

export interface StoredFields {
  fullName?: string | null;
  idNumberEnc?: string | null;
  idNumberHash?: string | null;
  sex?: 'male' | 'female' | null;
  phoneEnc?: string | null;
  phoneHash?: string | null;
  employer?: string | null;
  workStatus?: string | null;
  modelWorkerLevel?: string | null;
  hardshipTier?: string | null;
  mainCause?: string | null;
  secondaryCauses?: string[];
  description?: string | null;
  benefitForm?: 'transfer' | 'in_kind' | 'unit_condolence' | null;
  bankName?: string | null;
  bankCardEnc?: string | null;
  bankCardLast4?: string | null;
  bankCardHash?: string | null;
}

/** `hashes`: look-up hashes the caller computed already for these fields (a file's rows are hashed once). */
export function storedFields(
  cipher: Pick<FieldCipher, 'encrypt' | 'hash'>,
  f: ClearFields,
  hashes?: { idHash: string | null; phoneHash: string | null; cardHash?: string | null },
): StoredFields {
  const out: StoredFields = {};
  for (const [key, value] of Object.entries(f) as [keyof ClearFields, unknown][]) {
    if (value === undefined) continue;
    switch (key) {
      case 'idNumber':
        out.idNumberEnc = value === null ? null : cipher.encrypt(value as string);
        out.idNumberHash = value === null ? null : (hashes?.idHash ?? cipher.hash('id', value as string));
        break;
      case 'phone':
        out.phoneEnc = value === null ? null : cipher.encrypt(value as string);
        out.phoneHash = value === null ? null : (hashes?.phoneHash ?? cipher.hash('phone', value as string));
        break;
      case 'bankCard':
        out.bankCardEnc = value === null ? null : cipher.encrypt(value as string);
        out.bankCardHash = value === null ? null : (hashes?.cardHash ?? cipher.hash('card', value as string));
        break;
      case 'birthDate':
        // Never stored: it is derived from the (encrypted) ID number whenever needed, and a clear birth
        // date beside a masked ID number would rebuild it.
        break;
      default:
        (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

/** Every stored column of these fields set to null (an empty list for secondary causes). */
export function clearedColumns(fields: readonly (keyof ClearFields)[]): StoredFields {
  const nulls: ClearFields = {};
  for (const f of fields) (nulls as Record<string, unknown>)[f] = f === 'secondaryCauses' ? [] : null;
  // Nothing to encrypt: every value is null.
  return storedFields(undefined as unknown as FieldCipher, nulls);
}
