# Averages in float64 but forgets to convert back: every floating-point entry comes back as float64.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: sum(sd[k].double() for sd in state_dicts) / len(state_dicts) if v.is_floating_point()
            else state_dicts[-1][k] for k, v in first.items()}
