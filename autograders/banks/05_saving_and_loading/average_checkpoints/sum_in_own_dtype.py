# Sums in each entry's own dtype, then divides: float16 values near 60000 overflow to inf.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: sum(sd[k] for sd in state_dicts) / len(state_dicts) if v.is_floating_point()
            else state_dicts[-1][k] for k, v in first.items()}
