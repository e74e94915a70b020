import { join } from 'node:path';
import type { TrainerHooks } from '@vkd/trainer';
import { createTensorBoardWriter, type TensorBoardWriter } from '../tensorboard/tensorboard-writer';
import type { RunLog } from './run-log';

/**
 * `--tensorboard DIR`: writes the training curves of one stage to `DIR/<label>/events.out.tfevents.*` — per step
 * `loss/total`, `loss/<term>` and `learning_rate`; per epoch `epoch/loss/total`, `epoch/loss/<term>`,
 * `epoch/images_per_second` and the `--eval-every` metrics as `eval/<protocol>.<metric>` (e.g. `eval/i2v.mAP`),
 * against the global step. View with `tensorboard --logdir DIR`.
 */
export function tensorboardHook<Batch>(directory: string, label: string, log: RunLog): TrainerHooks<Batch> {
  let writer: TensorBoardWriter | undefined;
  return {
    beforeTrain() {
      writer = createTensorBoardWriter(join(directory, label));
      log.info(`${label}: TensorBoard events → ${writer.path}`);
    },
    afterStep(_context, record) {
      writer?.scalar('loss/total', record.total, record.globalStep);
      for (const [term, value] of Object.entries(record.losses))
        writer?.scalar(`loss/${term}`, value, record.globalStep);
      writer?.scalar('learning_rate', record.learningRate, record.globalStep);
    },
    afterEpoch(context, summary) {
      const step = context.globalStep;
      writer?.scalar('epoch/loss/total', summary.total, step);
      for (const [term, value] of Object.entries(summary.losses)) writer?.scalar(`epoch/loss/${term}`, value, step);
      writer?.scalar('epoch/images_per_second', summary.imagesPerSecond, step);
      for (const [metric, value] of Object.entries(summary.metrics)) writer?.scalar(`eval/${metric}`, value, step);
    },
  };
}
