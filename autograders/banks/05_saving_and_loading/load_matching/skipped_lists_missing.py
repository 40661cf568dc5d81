# Puts the model's own keys that the file lacks into skipped too: skipped should list the file's entries only.
def load_matching(model, state_dict):
    own = model.state_dict()
    fitting = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fitting, strict=False)
    skipped = [k for k in state_dict if k not in fitting] + [k for k in own if k not in state_dict]
    return sorted(fitting), sorted(skipped)
