/**
 * Every Redis key and channel the service uses, in one place, so that the
 * scripts and the code that reads their results agree on names. All of them
 * start with one prefix, so one Redis can be shared with other programs.
 */
export const PREFIX = 'push:'

export const Keys = {
  /** The global `seq` counter of camera events and alerts. */
  seq: `${PREFIX}seq`,
  /** Recent camera events and alerts: a sorted set scored by `seq`, members are the encoded messages. */
  history: `${PREFIX}history`,
  /** When each kept message arrived (Redis's clock, ms): a sorted set scored by arrival, members are seqs. */
  historyArrivals: `${PREFIX}history:arrivals`,
  /** Every live instance id (entries whose lease key is gone are pruned on read). */
  instances: `${PREFIX}instances`,
  /** Prefix of an instance's lease hash (`started_at`); the instance lives while it exists. */
  instancePrefix: `${PREFIX}instance:`,
  instance: (id: string) => `${PREFIX}instance:${id}`,
  /** Hash connection id → user id: the slots one instance holds; its size is the instance's count. Expires with the lease. */
  instanceConns: (id: string) => `${PREFIX}instance:${id}:conns`,
  /** Hash user id → connections of that user on one instance, kept equal to its connection set; expires with the lease. */
  instanceUsers: (id: string) => `${PREFIX}instance:${id}:users`,
  /** Hash connection id → instance id: one user's connection slots across the cluster. */
  slots: (userId: string) => `${PREFIX}slots:${userId}`,
  /** Prefix of the per-user slot hashes (the presence sweep builds them in Lua). */
  slotsPrefix: `${PREFIX}slots:`,
  /** Hash user id → when they came online (ms): the users announced online and not yet offline. */
  presenceOnline: `${PREFIX}presence:online`,
  /** The instance that gathers statistics this interval; expires unless renewed. */
  statsLeader: `${PREFIX}stats:leader`,
  /** The last statistics snapshot, for instances that start between two snapshots. */
  statsSnapshot: `${PREFIX}stats:snapshot`,
  eventsTotal: `${PREFIX}events:total`,
  /** Hash `events`, `recognitions` of one UTC day. */
  eventsDay: (day: string) => `${PREFIX}events:day:${day}`,
  eventsByType: `${PREFIX}events:types`,
  /** Hash `events`, `recognitions` of one UTC minute (ms / 60 000): the `series`; expires after two hours. */
  eventsMinute: (minute: number) => `${PREFIX}events:minute:${minute}`,
  /** Sorted set camera id → time of its last event (ms); the event counters script keeps the MAX_TRACKED_CAMERAS newest (`active_cameras` counts those within the window). */
  eventsCameras: `${PREFIX}events:cameras`,
  eventsLastRecognition: `${PREFIX}events:last_recognition`,
  /** Sorted set camera id → seq of its last event, never pruned by time: the cameras counted one by one (capped, oldest forgotten). */
  cameraIndex: `${PREFIX}events:camera:index`,
  /** Hash camera id → events ever counted. */
  cameraTotals: `${PREFIX}events:camera:totals`,
  /** Hash camera id → events of one UTC day. */
  cameraDay: (day: string) => `${PREFIX}events:camera:day:${day}`,
  /** Hash camera id → recognitions of one UTC day. */
  cameraDayRecognitions: (day: string) => `${PREFIX}events:camera:recognitions:${day}`,
  /** Hash camera id → events of one minute (a forgotten camera is removed from the current minute's only: the index filters the rest); expires after two hours. */
  cameraMinute: (minute: number) => `${PREFIX}events:camera:minute:${minute}`,
  /** Hash camera id → recognitions of one minute; as cameraMinute. */
  cameraMinuteRecognitions: (minute: number) => `${PREFIX}events:camera:minute_recognitions:${minute}`,
  /** Hash JSON [camera id, event type] → events. */
  cameraTypes: `${PREFIX}events:camera:types`,
  /** Hash camera id → "<seq>|<last recognition JSON>". */
  cameraLastRecognition: `${PREFIX}events:camera:last_recognition`,
  /** The seq a publish with this idempotency key (scoped to its publisher) got; expires after the window. */
  idempotency: (scopedKey: string) => `${PREFIX}idem:${scopedKey}`
} as const

export const Channels = {
  /** Every camera event and alert, encoded, in `seq` order. */
  messages: `${PREFIX}messages`,
  /** Every statistics snapshot the leader gathered. */
  statistics: `${PREFIX}statistics`,
  /** Presence transitions, a JSON array `[{u, on, t, s}, …]` per slot script call that caused any. */
  presence: `${PREFIX}presence`
} as const
