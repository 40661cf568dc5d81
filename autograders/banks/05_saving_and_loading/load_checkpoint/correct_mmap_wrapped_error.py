# Correct: memory-maps the file with weights_only=True and turns the unpickler's refusal into a RuntimeError of its own.
import pickle


def load_checkpoint(path, model, optimizer):
    try:
        checkpoint = torch.load(path, weights_only=True, mmap=True)
    except pickle.UnpicklingError as err:
        raise RuntimeError(f"refusing to load {path}: it is not plain data") from err
    state, opt_state, epoch = checkpoint["model"], checkpoint["optimizer"], checkpoint["epoch"]
    optimizer.load_state_dict(opt_state)
    model.load_state_dict(state)
    return epoch
