"""Training: config, data, the step and loop, checkpoints, evaluation, the alignment loss, the CLI."""
