# Correct: loads the fitting entries with strict=False and computes skipped as a set difference.
def load_matching(model, state_dict):
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    fitting = {}
    for key in sorted(state_dict):
        if shapes.get(key) == state_dict[key].shape:
            fitting[key] = state_dict[key]
    model.load_state_dict(fitting, strict=False)
    return list(fitting), sorted(set(state_dict) - set(fitting))
