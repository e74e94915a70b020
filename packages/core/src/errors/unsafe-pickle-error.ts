import { CheckpointError } from './checkpoint-error';

/**
 * A pickle (inside a PyTorch `.pth`/`.pt` file) refers to a Python global outside the allow-list of tensors and
 * containers. Such a file could run code when loaded by Python; it is refused and nothing in it is evaluated.
 */
export class UnsafePickleError extends CheckpointError {
  /** The refused global as `module.name`, e.g. `posix.system`. */
  readonly global: string;

  constructor(path: string, global: string, allowed: string) {
    super(
      path,
      `the pickle refers to the Python global "${global}", which is not a tensor or container type (allowed: ${allowed}). ` +
        'Files that call arbitrary functions are refused and never evaluated; export a plain state_dict ' +
        '(torch.save(model.state_dict(), path)) or a safetensors file from a trusted Python session.',
    );
    this.name = 'UnsafePickleError';
    this.global = global;
  }
}
