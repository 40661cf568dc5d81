# Averages only the first and the last state_dict ("the ends of the window"), not every one of the list.
def average_checkpoints(state_dicts):
    if not state_dicts:
        raise ValueError("empty")
    first, last = state_dicts[0], state_dicts[-1]
    for sd in state_dicts:
        if set(sd) != set(first) or any(sd[k].shape != first[k].shape for k in first):
            raise ValueError("keys or shapes differ")
    return {k: ((v.double() + last[k].double()) / 2).to(v.dtype) if v.is_floating_point() else last[k].clone()
            for k, v in first.items()}
