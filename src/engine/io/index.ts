/**
 * Engine file I/O: tokenizer (byte-level BPE, tokenizer.json), chat templates, safetensors,
 * Hugging Face folders, PEFT LoRA adapters, GGUF export. Imports nothing outside src/engine.
 */
export { EngineIoError } from './errors.ts';
export { f32ToF16Bits, f16BitsToF32, f32ToBf16Bits, bf16BitsToF32, encodeF16, decodeF16, encodeBf16, decodeBf16, roundTo } from './half.ts';
export {
  type FloatDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsContents,
  type WriteSafetensorsOptions,
  parseSafetensors,
  serializeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  writeAtomic,
  writeFileAtomic,
} from './safetensors.ts';
export {
  type AddedToken,
  BpeTokenizer,
  loadTokenizer,
  byteLevelTokenizerJson,
  byteTokenizer,
  byteLevelAlphabet,
  textToByteLevel,
  bytesToByteLevel,
  GPT2_PATTERN,
  LLAMA3_PATTERN,
  QWEN2_PATTERN,
} from './tokenizer.ts';
export { type TrainBpeOptions, trainBpe } from './bpe-train.ts';
export {
  type ChatMessage,
  type TokenizerConfig,
  type ApplyChatTemplateOptions,
  DEFAULT_CHAT_TEMPLATE,
  CHATML_TOKENS,
  applyChatTemplate,
  chatTemplateOf,
  chatTemplateSpans,
} from './chat.ts';
export {
  type GenerationConfig,
  type HfModel,
  type SaveHfModelInput,
  type SaveHfModelOptions,
  loadHfModel,
  saveHfModel,
  normalizeTokenizerConfig,
} from './hf.ts';
export {
  type PeftAdapterConfig,
  type SavePeftOptions,
  type LoadedPeftAdapter,
  savePeftAdapter,
  loadPeftAdapter,
  mergeLora,
  peftKeys,
} from './peft.ts';
export {
  type GgufValue,
  type GgufTensor,
  type GgufExportInput,
  type GgufExportOptions,
  GGUF_ALIGNMENT,
  GgufType,
  GgmlType,
  writeGguf,
  exportGguf,
  exportLoraGguf,
  permuteQK,
  unpermuteQK,
  ggufTensorName,
  ggufArchitecture,
  llama3RopeFactors,
  ggufPreTokenizer,
  ggufTokenizerMetadata,
  ggufModelTensors,
} from './gguf.ts';
