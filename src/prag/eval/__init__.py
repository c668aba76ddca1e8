"""The paper's benchmark and the demo: datasets, metrics and reports as plain functions over files, and the
runners (`benchmark`, `warmup`, `demo`) that drive a `Prag` over them as any user would."""
