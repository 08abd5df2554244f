"""Training: tasks, models, metrics and the loop (everything here may import torch)."""
