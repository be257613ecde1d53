"""The pieces `ember train` assembles: datasets and their transforms, models, the optimizer,
the TensorBoard writer and the curve plots."""

import datetime
import os
import socket
import sys
from dataclasses import dataclass

from ember.optim import SGD, Adam
from ember.random import get_rng_state, set_rng_state
from ember.utils.data import DataLoader
from ember.vision import datasets, models
from ember.vision import transforms as T
from ember.vision.models import seeds


class SetupError(Exception):
    """A model/dataset/option combination that cannot work: a one-line error, status 2."""


class DataError(Exception):
    """The dataset cannot be read or downloaded: a one-line error, status 1."""


# model name -> (builder(channels, size, classes), smallest image side it accepts)
def _seed(name):
    return getattr(seeds, name)


def _torchvision(name):
    def build(channels, size, classes):
        return models.get_model(name, num_classes=classes)
    return build


MODELS = {
    "mlp": (lambda c, s, k: _seed("NeuralNetwork")(in_features=c * s * s, num_classes=k), 1),
    "seed000-net": (lambda c, s, k: _seed("Howjul")(c, s, k), 8),
    "mycnn": (lambda c, s, k: _seed("MyCNN")(s, k, in_channels=c), 4),
    "cifar-resnet": (lambda c, s, k: _seed("ResNet")(_seed("ResidualBlock"), [2, 2, 2], k,
                                                     in_channels=c, image_size=s), 4),
    "se-resnet": (lambda c, s, k: _seed("ResNet")(_seed("SEResidualBlock"), [2, 2, 2], k,
                                                  in_channels=c, image_size=s), 4),
    "vgg11-bn": (lambda c, s, k: _seed("VGG")(_seed("cfg")["VGG11"], k, in_channels=c,
                                              image_size=s), 32),
}
_TORCHVISION = ["alexnet", "mobilenet_v2", "resnet18", "resnet34", "resnet50", "resnet101",
                "resnet152", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
                "vgg19", "vgg19_bn"]
for _name in _TORCHVISION:
    MODELS[_name] = (_torchvision(_name), 64 if _name == "alexnet" else 32)
THREE_CHANNEL_ONLY = set(_TORCHVISION)

# dataset name -> (channels, native size, mean, std)
DATASETS = {
    "digits": (1, 8, (0.3053,), (0.3759,)),
    "mnist": (1, 28, (0.1307,), (0.3081,)),
    "fashion-mnist": (1, 28, (0.2860,), (0.3530,)),
    "kmnist": (1, 28, (0.1918,), (0.3483,)),
    "cifar10": (3, 32, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),
    "cifar100": (3, 32, (0.507, 0.487, 0.441), (0.267, 0.256, 0.276)),
    "svhn": (3, 32, (0.438, 0.444, 0.473), (0.198, 0.201, 0.197)),
    "imagefolder": (3, 32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "fake": (3, 32, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


@dataclass
class Data:
    train: object
    test: object
    train_loader: object
    test_loader: object
    channels: int
    image_size: int
    num_classes: int


def _transforms(args, channels: int, native: int, size: int, mean, std, train: bool):
    steps = []
    # An image folder's pictures come in any size: bring each to the model's input size.
    if (size != native or args.dataset == "imagefolder") and args.dataset != "digits":
        steps.append(T.Resize((size, size)))
    if train and not args.no_augment and args.dataset in ("cifar10", "cifar100", "svhn",
                                                           "imagefolder"):
        pad = max(size // 8, 1)
        steps += [T.Pad(pad), T.RandomHorizontalFlip(), T.RandomCrop(size)]
        if args.dataset == "svhn":
            steps.pop(1)  # digits must not be mirrored
    if channels == 1 and args.model in THREE_CHANNEL_ONLY:
        steps.append(T.Grayscale(3))
        mean, std = mean * 3, std * 3
    steps += [T.ToTensor(), T.Normalize(mean, std)]
    return T.Compose(steps)


def make_data(args) -> Data:
    """The train/test datasets and loaders for args.dataset."""
    channels, native, mean, std = DATASETS[args.dataset]
    minimum = MODELS[args.model][1]
    size = args.image_size or max(native, minimum)
    if size < minimum:
        raise SetupError(f"model {args.model} needs images of at least {minimum}x{minimum} "
                         f"(got --image-size {size})")
    if args.model == "vgg11-bn" and size % 32:
        raise SetupError("model vgg11-bn needs an image size that is a multiple of 32")
    tf_train = _transforms(args, channels, native, size, mean, std, train=True)
    tf_test = _transforms(args, channels, native, size, mean, std, train=False)
    try:
        train, test = _datasets(args, args.data_dir, size, tf_train, tf_test)
    except (RuntimeError, ImportError) as error:  # not found, corrupted, offline, no SciPy
        message = str(error).splitlines()[0].replace("download=True", "--download")
        raise DataError(message) from None
    num_classes = len(train.classes) if hasattr(train, "classes") else 10
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers)
    test_loader = DataLoader(test, batch_size=max(args.batch_size, 100), shuffle=False,
                             num_workers=args.workers)
    return Data(train, test, train_loader, test_loader, channels, size, num_classes)


def _datasets(args, root: str, size: int, tf_train, tf_test) -> tuple:
    """(train, test) datasets of args.dataset."""
    if args.dataset == "digits":
        train = datasets.Digits(root, train=True, transform=tf_train, size=size)
        test = datasets.Digits(root, train=False, transform=tf_test, size=size)
    elif args.dataset in ("mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100"):
        cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST,
               "kmnist": datasets.KMNIST, "cifar10": datasets.CIFAR10,
               "cifar100": datasets.CIFAR100}[args.dataset]
        train = cls(root, train=True, transform=tf_train, download=args.download)
        test = cls(root, train=False, transform=tf_test, download=args.download)
    elif args.dataset == "svhn":
        train = datasets.SVHN(root, split="train", transform=tf_train, download=args.download)
        test = datasets.SVHN(root, split="test", transform=tf_test, download=args.download)
    elif args.dataset == "fake":
        train = datasets.FakeData(256, (3, size, size), 10, transform=tf_train)
        test = datasets.FakeData(64, (3, size, size), 10, transform=tf_test, random_offset=256)
    else:
        train, test = _image_folders(root, tf_train, tf_test)
    return train, test


def _image_folders(root: str, tf_train, tf_test):
    if not os.path.isdir(root):
        raise SetupError(f"--data-dir {root} is not a folder (imagefolder expects "
                         f"{root}/train/<class>/*.png and {root}/test/<class>/*.png)")
    test_dir = next((os.path.join(root, d) for d in ("test", "val")
                     if os.path.isdir(os.path.join(root, d))), None)
    if not os.path.isdir(os.path.join(root, "train")) or test_dir is None:
        raise SetupError(f"imagefolder expects {root}/train/ and {root}/test/ (or val/), "
                         f"one sub-folder per class")
    try:
        return (datasets.ImageFolder(os.path.join(root, "train"), transform=tf_train),
                datasets.ImageFolder(test_dir, transform=tf_test))
    except FileNotFoundError as error:
        raise SetupError(str(error)) from None


def make_model(name: str, channels: int, size: int, classes: int):
    if name in THREE_CHANNEL_ONLY:
        channels = 3
    return MODELS[name][0](channels, size, classes)


def make_optimizer(args, model):
    params = model.parameters()
    if args.optimizer == "sgd":
        return SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    return Adam(params, lr=args.lr, weight_decay=args.weight_decay)


def limit_threads(threads) -> None:
    """Cap the BLAS thread pool (through threadpoolctl, when installed).

    NOTE [BLAS threads for small models]
    A small model's matrix products (64 x 512 x 512) are too small to split across threads;
    on a busy machine OpenBLAS's threads then spend far longer waiting for each other than
    computing (25 ms instead of 0.8 ms per product was measured on a loaded 2-core machine).
    `ember train` therefore runs models under 2M parameters on one BLAS thread.
    """
    if threads is None:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=threads, user_api="blas")


def run_log_dir(out_dir: str) -> str:
    """out_dir/tensorboard/<start time>_<host>: each run's scalars are their own TensorBoard run."""
    stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S-%f")
    return os.path.join(out_dir, "tensorboard", f"{stamp}_{socket.gethostname()}")


def make_writer(out_dir: str, model, loader):
    """A SummaryWriter logging to a fresh run folder (with the model graph), or None.

    Drawing the graph's example batch must not change training: iterating a loader draws from
    the random stream (its shuffle and worker seeds), so the stream is put back afterwards.
    """
    try:
        # lazy: TensorBoard is optional (and slow to import); only this step needs it
        from ember.utils.tensorboard import SummaryWriter
    except ImportError as error:
        print(f"note: no TensorBoard logs ({error})", file=sys.stderr)
        return None
    writer = SummaryWriter(run_log_dir(out_dir))
    rng_state, training = get_rng_state(), model.training
    try:
        images, _ = next(iter(loader))
        model.eval()
        writer.add_graph(model, images[:1])
    except Exception as error:  # noqa: BLE001 - the graph is a nicety; training goes on
        print(f"note: no TensorBoard graph ({type(error).__name__}: {error})", file=sys.stderr)
    finally:
        set_rng_state(rng_state)
        model.train(training)
    return writer


def plot_curves(losses, accs, out_dir: str) -> None:
    """Write loss.png and accuracy.png (the seeds' show_curve, to files)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if len(losses) == 1:
            print("note: matplotlib is not installed; no loss/accuracy plots (pip install "
                  "'ember[train]')", file=sys.stderr)
        return
    for values, title, name in ((losses, "train loss", "loss.png"),
                                (accs, "test accuracy", "accuracy.png")):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(range(1, len(values) + 1), values, c="b", marker="o")
        ax.set_title(f"{title} curve")
        ax.set_xlabel("epoch")
        ax.set_ylabel(title)
        fig.tight_layout()
        tmp = os.path.join(out_dir, name + ".tmp.png")
        fig.savefig(tmp)
        plt.close(fig)
        os.replace(tmp, os.path.join(out_dir, name))
