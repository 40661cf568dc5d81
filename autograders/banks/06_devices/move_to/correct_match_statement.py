# A match statement on the kind of object, named tuples rebuilt with _replace.
def move_to(obj, device):
    match obj:
        case torch.Tensor() | nn.Module():
            return obj.to(device)
        case tuple() if hasattr(obj, "_fields"):
            return obj._replace(**{field: move_to(getattr(obj, field), device) for field in obj._fields})
        case tuple():
            return tuple(move_to(value, device) for value in obj)
        case list():
            return [move_to(value, device) for value in obj]
        case dict():
            return dict(zip(obj.keys(), (move_to(value, device) for value in obj.values())))
        case _:
            return obj
