/**
 * The made-up site the demo simulates: its cameras, the people its face
 * recognition knows, and the alerts an operator would see.
 */

export type CameraKind = 'entrance' | 'parking' | 'indoor' | 'restricted'

export interface Camera {
  id: string
  kind: CameraKind
  /** Relative share of the site's traffic. */
  weight: number
}

export const CAMERAS: readonly Camera[] = [
  { id: 'lobby-entrance', kind: 'entrance', weight: 5 },
  { id: 'staff-entrance', kind: 'entrance', weight: 3 },
  { id: 'parking-north', kind: 'parking', weight: 3 },
  { id: 'parking-south', kind: 'parking', weight: 2 },
  { id: 'warehouse-dock', kind: 'indoor', weight: 2 },
  { id: 'office-floor-2', kind: 'indoor', weight: 2 },
  { id: 'server-room', kind: 'restricted', weight: 1 }
]

export const PEOPLE: readonly string[] = [
  'Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Margaret Hamilton',
  'Dennis Ritchie', 'Barbara Liskov', 'Edsger Dijkstra', 'Frances Allen', 'Ken Thompson'
]

/** Event types per kind of camera, with relative weights. */
export const EVENT_MIX: Record<CameraKind, ReadonlyArray<[type: string, weight: number]>> = {
  entrance: [['face_recognized', 40], ['person_detected', 30], ['face_unknown', 10], ['motion_detected', 20]],
  parking: [['vehicle_detected', 50], ['person_detected', 20], ['motion_detected', 30]],
  indoor: [['person_detected', 45], ['motion_detected', 40], ['face_recognized', 15]],
  restricted: [['motion_detected', 50], ['face_recognized', 35], ['face_unknown', 15]]
}

export const VEHICLES: readonly string[] = ['car', 'car', 'car', 'van', 'truck', 'motorcycle']

export interface AlertTemplate {
  level: 'info' | 'warning' | 'critical'
  message: (camera: string) => string
}

export const ALERTS: readonly AlertTemplate[] = [
  { level: 'warning', message: camera => `Camera ${camera} stopped sending frames for 30 s` },
  { level: 'warning', message: camera => `Door held open at ${camera}` },
  { level: 'info', message: camera => `Camera ${camera} switched to night mode` },
  { level: 'warning', message: camera => `Image quality degraded on ${camera}: check the lens` },
  { level: 'critical', message: camera => `Unknown person detected at ${camera}` }
]
