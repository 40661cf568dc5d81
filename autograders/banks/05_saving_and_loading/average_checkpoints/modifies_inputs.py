# Accumulates into the first state_dict's own tensors: the caller's checkpoint is overwritten.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    for key, value in first.items():
        if value.is_floating_point():
            total = sum(sd[key].double() for sd in state_dicts)
            value.copy_(total / len(state_dicts))
        else:
            value.copy_(state_dicts[-1][key])
    return dict(first)
