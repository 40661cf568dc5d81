# Dispatches on the type with functools.singledispatch, one function per kind of container.
import functools


@functools.singledispatch
def _move(obj, device):
    return obj


@_move.register
def _(obj: torch.Tensor, device):
    return obj.to(device)


@_move.register
def _(obj: nn.Module, device):
    return obj.to(device)


@_move.register
def _(obj: list, device):
    return [_move(value, device) for value in obj]


@_move.register
def _(obj: tuple, device):
    values = [_move(value, device) for value in obj]
    return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)


@_move.register
def _(obj: dict, device):
    return {key: _move(value, device) for key, value in obj.items()}


def move_to(obj, device):
    return _move(obj, device)
