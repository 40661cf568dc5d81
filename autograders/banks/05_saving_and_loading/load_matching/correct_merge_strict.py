# Correct: merges the fitting entries over the model's own state_dict and loads the whole with strict=True.
def load_matching(model, state_dict):
    own = model.state_dict()
    loaded, skipped = [], []
    for key in sorted(state_dict):
        (loaded if key in own and tuple(own[key].size()) == tuple(state_dict[key].size()) else skipped).append(key)
    model.load_state_dict({**own, **{k: state_dict[k] for k in loaded}})
    return loaded, skipped
