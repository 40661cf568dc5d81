# Moves the tensors into the input's own lists and dicts instead of building new ones.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, (list, dict)):
        for key in (obj if isinstance(obj, dict) else range(len(obj))):
            obj[key] = move_to(obj[key], device)
        return obj
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, tuple):
        return tuple(move_to(value, device) for value in obj)
    return obj
