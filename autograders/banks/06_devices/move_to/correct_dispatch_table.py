# A table from container kind to how it is rebuilt, walked recursively.
def move_to(obj, device):
    def rebuild_named(t):
        return type(t)(*[move_to(v, device) for v in t])

    if isinstance(obj, (torch.Tensor, nn.Module)):
        return obj.to(device)
    builders = [
        (lambda o: isinstance(o, tuple) and hasattr(o, "_fields"), rebuild_named),
        (lambda o: isinstance(o, tuple), lambda t: tuple(move_to(v, device) for v in t)),
        (lambda o: isinstance(o, list), lambda l: list(map(lambda v: move_to(v, device), l))),
        (lambda o: isinstance(o, dict), lambda d: dict((k, move_to(v, device)) for k, v in d.items())),
    ]
    for applies, build in builders:
        if applies(obj):
            return build(obj)
    return obj
