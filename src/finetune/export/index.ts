// Exports of a fine-tune arm: trainer recipes (Axolotl, TRL, LLaMA-Factory, MLX-LM, Unsloth) with
// accelerate/DeepSpeed/FSDP and SkyPilot files, and the trained model as GGUF with an Ollama Modelfile.
export {
  buildRecipe,
  accelerateConfig,
  deepspeedConfig,
  strategyFor,
  EXPORT_TARGETS,
  type ExportTarget,
  type RecipeInput,
  type Recipe,
  type Strategy,
} from './recipes.ts';
export { ollamaModelfile, ollamaTemplateFor } from './ollama.ts';
