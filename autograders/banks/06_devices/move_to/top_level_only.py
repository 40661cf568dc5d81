# Moves the tensors directly in a list, tuple or dict, but does not walk containers nested in it.
def move_to(obj, device):
    def move(value):
        return value.to(device) if isinstance(value, (torch.Tensor, nn.Module)) else value

    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*map(move, obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(map(move, obj))
    if isinstance(obj, dict):
        return {key: move(value) for key, value in obj.items()}
    return move(obj)
