"""The ConvLSTM sequence-to-sequence frame predictor, scored by PSNR."""

from convlstm_ae.seq2seq.config import Seq2SeqConfig, create_seq2seq_predictor
from convlstm_ae.seq2seq.network import build_seq2seq_predictor
from regularity.run.families import Family

__all__ = ["FAMILY", "Seq2SeqConfig", "build_seq2seq_predictor", "create_seq2seq_predictor"]

FAMILY = Family(
    "seq2seq_predictor",
    Seq2SeqConfig,
    create_seq2seq_predictor,
    "ConvLSTM seq2seq predictor, PSNR score",
)
