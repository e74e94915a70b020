/**
 * How each dataset writes a camera in its file names, from the 0-based camera index of its loader: MARS, DukeMTMC-
 * VideoReID and the synthetic set (MARS layout) `C1`…, VeRi-776 `c001`…. Other sets (ATRW, folder) have no camera
 * token of their own: `cam <index>`.
 */
const CAMERA_NAMING: Readonly<Record<string, (camera: number) => string>> = {
  mars: (camera) => `C${camera + 1}`,
  'duke-video': (camera) => `C${camera + 1}`,
  synthetic: (camera) => `C${camera + 1}`,
  'veri-776': (camera) => `c${String(camera + 1).padStart(3, '0')}`,
};

/**
 * The dataset's own name of a camera, for tables and charts (MARS camera index 0 → `C1`).
 * @param datasetName a loader name (`ReidDataset.name`).
 * @param camera the 0-based camera index of a tracklet.
 */
export function cameraName(datasetName: string, camera: number): string {
  const naming = CAMERA_NAMING[datasetName];
  return naming ? naming(camera) : `cam ${camera}`;
}
