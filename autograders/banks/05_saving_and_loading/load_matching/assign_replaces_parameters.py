# Loads with assign=True: the model gets new Parameter objects, and an optimizer built earlier updates the old ones.
def load_matching(model, state_dict):
    own = model.state_dict()
    fitting = {k: v.clone() for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fitting, strict=False, assign=True)
    return sorted(fitting), sorted(k for k in state_dict if k not in fitting)
