# Copies each list and dict with copy.copy, then fills the copy; tuples rebuilt from a list.
import copy


def move_to(obj, device):
    if isinstance(obj, (list, dict)):
        new = copy.copy(obj)
        for key in (new.keys() if isinstance(new, dict) else range(len(new))):
            new[key] = move_to(new[key], device)
        return new
    if isinstance(obj, tuple):
        values = [move_to(value, device) for value in obj]
        return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    return obj
