# Correct: a running float64 sum per key, started from a clone of the first state_dict, divided at the end.
def average_checkpoints(state_dicts):
    state_dicts = list(state_dicts)
    if not state_dicts:
        raise ValueError("no state_dicts")
    first = state_dicts[0]
    sums = {k: v.double().clone() for k, v in first.items() if v.is_floating_point()}
    for sd in state_dicts[1:]:
        if sd.keys() != first.keys():
            raise ValueError("keys differ")
        for k, v in sd.items():
            if v.shape != first[k].shape:
                raise ValueError(f"{k} has another shape")
            if k in sums:
                sums[k] += v.double()
    n = len(state_dicts)
    return {k: (sums[k] / n).to(v.dtype) if k in sums else state_dicts[-1][k].clone() for k, v in first.items()}
