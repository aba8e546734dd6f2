#!/usr/bin/env bash
# The GPU check: the declared Ped2 recipes of the ConvLSTM autoencoder, the U-Net and the
# multi-scale GAN, then the same at the papers' scale (256 x 256, full widths), each trained and
# tested under Keras' JAX backend, and its scoring speed at batch 64. One JSON line per step
# goes to OUT/gpu_check.jsonl (training time, frames/s, peak GPU memory, frame AUC).
#
#   scripts/gpu_check.sh DATA_ROOT OUT [MINUTES]  on the GPU machine (no TensorFlow there):
#       DATA_ROOT holds ped2/ (the official layout); MINUTES caps each training (default 3)
#   scripts/gpu_check.sh --dry-run OUT            the same steps here on the CPU, on the
#       synthetic walkway at a small size and one epoch (what the test suite runs)
#
# FAMILIES and SCALES (environment) pick fewer of each (the test's dry run trains one).
# Wheels the machine lacks travel in .whl/ (README, "Training on a GPU"): installed first.
set -euo pipefail
python=${PYTHON:-python3}  # the interpreter that has JAX (and Keras)

if [ "${1:-}" = "--dry-run" ]; then
    out=$2
    data_root="$out/data"
    dataset=synthetic
    declared=(--set epochs=1 --set "size=[32,48]" --set dtype_policy=null --set window_stride=8
              --set 'dataset_options={"n_train": 3, "n_test": 2, "n_frames": 30}')
    paper=("${declared[@]}" --set "size=[64,64]")
    speed=(--frames 24 --clips 1 --batch-size 8)
else
    data_root=$1
    out=$2
    minutes=${3:-3}
    dataset=ped2
    declared=(--set "max_minutes=$minutes")
    paper=("${declared[@]}" --set "size=[256,256]")
    speed=(--frames 512 --clips 4 --batch-size 64)
fi
if [ -d .whl ]; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
mkdir -p "$out"
log="$out/gpu_check.jsonl"
: >"$log"

for scale in ${SCALES:-declared paper}; do
    for family in ${FAMILIES:-convlstm_ae unet_predictor multiscale_gan}; do
        run="$out/runs/${family}_$scale"
        settings=(--set "dataset=$dataset" --set "data_root=$data_root")
        if [ "$scale" = declared ]; then
            settings+=("${declared[@]}")
        else
            settings+=("${paper[@]}")
            # Mathieu et al.'s own widths (the declared recipe trains at a quarter)
            [ "$family" = multiscale_gan ] && settings+=(--set width=1.0)
        fi
        "$python" scripts/benchmark.py train --family "$family" --recipe ped2 --run-dir "$run" \
            --videos 0 --overwrite "${settings[@]}" | tail -n 1 >>"$log"
        "$python" scripts/benchmark.py speed --run-dir "$run" "${speed[@]}" | tail -n 1 >>"$log"
    done
done
cat "$log"
