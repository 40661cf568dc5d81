# Rebuilds every tuple with tuple(...): a named tuple comes back as a plain tuple.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, tuple):
        return tuple(move_to(value, device) for value in obj)
    if isinstance(obj, list):
        return [move_to(value, device) for value in obj]
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
