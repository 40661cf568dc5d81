# Moves each tensor with .detach().to(device) when it must move: the moved tensor is cut from autograd.
def move_to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj if obj.device == torch.device(device) else obj.detach().to(device)
    if isinstance(obj, nn.Module):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
