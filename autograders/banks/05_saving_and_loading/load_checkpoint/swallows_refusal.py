# Catches the refusal and returns 0 as if nothing had been saved: the file is not unpickled, but no error says so.
import pickle


def load_checkpoint(path, model, optimizer):
    try:
        checkpoint = torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        return 0
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
