/**
 * ICD-10-CM: a letter, two alphanumerics, then optionally a dot and up to four more (E66.811, S72.001A,
 * J20.9, R51). The HCMS guide's own regex (/^[A-Z]\d{2}(\.\d{1,2})?$/) rejects real codes like these.
 */
export const ICD10_CM = /^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/;

/** CPT / HCPCS: five digits (99213), four digits + F/T/U (3008F), or a letter + four digits (J3490). */
export const CPT_HCPCS = /^(\d{5}|\d{4}[FTU]|[A-Z]\d{4})$/;
