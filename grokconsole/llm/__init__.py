"""A generic causal-LM library: loading any local Hugging Face model, batched generation with KV
caches, LoRA/SFT, the built-in tiny model. It knows no task's text formats.

Models are only ever read from local folders (``local_files_only``): nothing here reaches a hub.
Importing this package changes nothing in the process; the processes the launch path starts get
Hugging Face's offline settings in their environment (:data:`grokconsole.runs.env.MODEL_PROCESS_ENV`).
"""
