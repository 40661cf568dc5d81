# Returns a deep copy of every object that is not a tensor or a container, not the object itself.
import copy


def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(move_to(value, device) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(move_to(value, device) for value in obj)
    if isinstance(obj, dict):
        return {key: move_to(value, device) for key, value in obj.items()}
    return copy.deepcopy(obj)
