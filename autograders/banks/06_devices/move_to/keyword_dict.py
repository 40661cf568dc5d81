# Rebuilds a dict with dict(**...): only string keys survive, a dict with an int key raises TypeError.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return dict(**{key: move_to(value, device) for key, value in obj.items()})
    return obj
