# Rebuilds every tuple as a list.
def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return [move_to(value, device) for value in obj]
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return obj
