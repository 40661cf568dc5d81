# Returns the keys sorted instead of in the order of the first state_dict.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("nothing to average")
    first = state_dicts[0]
    for sd in state_dicts[1:]:
        if set(sd) != set(first) or any(sd[k].shape != v.shape for k, v in first.items()):
            raise ValueError("the state_dicts do not match")
    return {k: (sum(sd[k].double() for sd in state_dicts) / len(state_dicts)).to(first[k].dtype)
            if first[k].is_floating_point() else state_dicts[-1][k] for k in sorted(first)}
