# Takes the integer entries from the first state_dict instead of the last.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: (sum(sd[k].double() for sd in state_dicts) / len(state_dicts)).to(v.dtype)
            if v.is_floating_point() else first[k] for k, v in first.items()}
