// An Ollama Modelfile for an exported GGUF: the chat template translated from the model's Jinja template
// family (ChatML, Llama 3) into Ollama's Go template, with its stop tokens.

/** Go template and stop strings for a Jinja chat template. */
export function ollamaTemplateFor(jinja: string | undefined): { template: string; stop: string[] } {
  const j = jinja ?? '';
  if (j.includes('<|start_header_id|>')) {
    return {
      template:
        '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n',
      stop: ['<|eot_id|>', '<|start_header_id|>'],
    };
  }
  // ChatML (tunelab's built-in model, Qwen, SmolLM): the default
  return {
    template: '{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n',
    stop: ['<|im_end|>', '<|im_start|>'],
  };
}

export function ollamaModelfile(o: {
  gguf: string;
  chatTemplate?: string;
  temperature?: number;
  adapter?: string;
  system?: string;
}): string {
  const t = ollamaTemplateFor(o.chatTemplate);
  return [
    `FROM ${o.gguf}`,
    ...(o.adapter ? [`ADAPTER ${o.adapter}`] : []),
    `TEMPLATE """${t.template}"""`,
    ...t.stop.map((s) => `PARAMETER stop "${s}"`),
    `PARAMETER temperature ${o.temperature ?? 0}`,
    ...(o.system ? [`SYSTEM """${o.system}"""`] : []),
    '',
  ].join('\n');
}
