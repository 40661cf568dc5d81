# Moves each tensor with torch.as_tensor(t, device=...), which returns t itself when it is already there.
def move_to(obj, device):
    if torch.is_tensor(obj):
        return torch.as_tensor(obj, device=device)
    if isinstance(obj, nn.Module):
        obj.to(device)
        return obj
    if isinstance(obj, dict):
        return {key: move_to(obj[key], device) for key in obj.keys()}
    if isinstance(obj, list):
        return list(move_to(value, device) for value in obj)
    if isinstance(obj, tuple):
        moved = [move_to(value, device) for value in obj]
        return obj.__class__(*moved) if hasattr(obj, "_fields") else tuple(moved)
    return obj
