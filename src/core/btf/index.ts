export {
  Btf,
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  POINTER_SIZE,
  type BtfDatasec,
  type BtfDatasecVar,
  type BtfEnumValue,
  type BtfField,
  type BtfKind,
  type BtfMapTypes,
  type BtfMember,
  type BtfParam,
  type BtfType,
  type BtfVarSecinfo,
} from './btf.js';
export {
  compileDecoder,
  compileValueDecoder,
  decodeVariable,
  MAX_DECODE_SIZE,
  type Decoder,
  type FieldInfo,
  type ValueDecoder,
} from './decoder.js';
export { encodeToBuffer, encodeValue, encodeVariable } from './encoder.js';
export { compileRecordDecoder, EXTRA_KEY } from './records.js';
