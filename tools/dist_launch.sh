#!/usr/bin/env bash
# bash tools/dist_launch.sh SCRIPT NUM_PROCS [SCRIPT's arguments]
# torchrun of tools/SCRIPT with NUM_PROCS processes on this node; what
# tools/dist_train.sh and tools/dist_test.sh run.
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as for torchrun.
SCRIPT=$1
PROCS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
python -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$PROCS \
    --master_port=$PORT \
    "$(dirname "$0")/$SCRIPT" \
    "$@"
