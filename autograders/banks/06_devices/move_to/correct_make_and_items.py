# Checks the named tuple through its _make constructor and the dict through a loop, each in its own branch.
def move_to(obj, device):
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, nn.Module):
        obj.to(device)
        return obj
    if isinstance(obj, dict):
        moved = {}
        for key in obj:
            moved[key] = move_to(obj[key], device)
        return moved
    if isinstance(obj, list):
        return [move_to(value, device) for value in obj]
    if isinstance(obj, tuple):
        values = [move_to(value, device) for value in obj]
        return type(obj)._make(values) if hasattr(type(obj), "_make") else tuple(values)
    return obj
