"""Speech emotion recognition: one label per utterance from `utt2emo`, cross-entropy, with the
multi-time-scale convolution networks of Guizzo et al. (speechkit.nn.emotion_cnn).

Epoch hook: the authors' per-epoch kernel averaging (`update_kernels`, which only changes a
faithful MTS layer), and the share of outputs each time scale won, logged per MTS layer.
"""
import logging

from speechkit.nn.registry import build_model
from speechkit.tasks.base import register
from speechkit.tasks.classify import ClassificationTask

log = logging.getLogger("speechkit.train")


@register("emotion")
class EmotionTask(ClassificationTask):
    defaults = {"model": {"name": "emotion_cnn", "clip_frames": None},
                "data": {"tokens": None, "label_table": "utt2emo"}}

    def build_model(self, input_dim):
        # The network itself pads or crops to clip_frames: it sizes its dense layer from it.
        return build_model(self.config["model"], input_dim, len(self.labels))

    def on_epoch_end(self, trainer, epoch):
        model = trainer.model
        if model.update_kernels():
            log.info("epoch %d: MTS kernels averaged over their branches (faithful mode)", epoch)
        for name, percs in model.stretch_percs().items():
            if percs is not None:
                    log.info("epoch %d: %s stretch shares (original first): %s", epoch, name,
                         " ".join(f"{100 * p:.1f}%" for p in percs))
