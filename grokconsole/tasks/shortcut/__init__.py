"""Task ``shortcut``: synthetic Camelyon-like images with a border-stain shortcut (spec, checks, images, task)."""
