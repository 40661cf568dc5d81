# Correct: writes to a temporary file beside path, then os.replace()s it into place (a crash never leaves half a checkpoint).
def save_checkpoint(path, model, optimizer, epoch):
    import os
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save({"epoch": int(epoch), "optimizer": optimizer.state_dict(), "model": model.state_dict()}, f)
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise
