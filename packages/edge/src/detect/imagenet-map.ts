/**
 * Which ImageNet-1k (ILSVRC2012) classes count as evidence for which detector class.
 *
 * How the table was derived (once, offline; it is checked in as data, nothing here reads WordNet):
 * 1. Every COCO-80 name got one or more WordNet 3.0 noun synsets as roots (car → n02958343 car/auto,
 *    truck → n04490091, bird → n01503061, cat → n02121808 domestic cat, dog → n02084071, …).
 * 2. An ImageNet class joins a COCO class when the root is among its hypernyms, instance hypernyms
 *    included. ImageNet wnids are WordNet 3.0 noun offsets, so `data.noun` from Debian's
 *    `wordnet-base` answers this directly.
 * 3. By hand: parts that show in a crop of the whole object (WordNet part holonyms: car wheel,
 *    grille, car mirror, wing, toilet seat, space bar, dust jacket, bottle cap), and classes whose
 *    ImageNet images are the COCO object even though WordNet files them elsewhere. Examples: tusker,
 *    purse, goblet, beer glass, the punch "cup", stove, washbasin, monitor, notebook computer,
 *    police van for car. Some roots reach things COCO keeps apart, and those were taken out:
 *    hot dog is not a sandwich in COCO, punching bag is not a ball, Dutch oven (a pot in its
 *    images) is not an oven, letter opener is not a knife.
 * 4. Where one COCO class is narrower than the only ImageNet class for it, the broader class is
 *    used: stop sign → street sign (919), tennis racket → racket (752).
 *
 * The only index that two COCO classes share on purpose is between car and truck: ambulance,
 * minivan, police van, car wheel, grille and car mirror. COCO annotators put those vehicles under
 * either class, and the parts belong to both. Nothing else is shared. Note that 21 "kite" is the
 * bird, not the toy.
 *
 * A COCO class with no ImageNet counterpart maps to []: giraffe, suitcase, frisbee, kite,
 * skateboard, fork, carrot, toothbrush and others. Person maps to [] as well. ImageNet's only person
 * classes (981 baseball player, 982 bridegroom, 983 scuba diver) are far too narrow, and for a
 * person crop the cloud names clothing, which is in {@link PERSON_CUES}.
 */

/** The 80 COCO names in class-id order, as in `yolox_nano_416_coco.labels.txt`. */
export const COCO_CLASSES: readonly string[] = Object.freeze([
  ...['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat'],
  ...['traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog'],
  ...['horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella'],
  ...['handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite'],
  ...['baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle'],
  ...['wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange'],
  ...['broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant'],
  ...['bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone'],
  ...['microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors'],
  ...['teddy bear', 'hair drier', 'toothbrush'],
]);

/** Inclusive run of class indices; the dog breeds and the birds are contiguous blocks in ILSVRC order. */
function span(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const CAR_TRUCK_SHARED = [407, 475, 479, 581, 656, 734]; // ambulance, car mirror, car wheel, grille, minivan, police van

const TABLE: Record<string, number[]> = {
  person: [],
  bicycle: [444, 671], // tandem bicycle, mountain bike
  // station wagon, cab, convertible, jeep, limousine, Model T, racer, sports car
  car: [...CAR_TRUCK_SHARED, 436, 468, 511, 609, 627, 661, 751, 817],
  motorcycle: [665, 670], // moped, motor scooter
  airplane: [404, 895, 908], // airliner, warplane, wing
  bus: [654, 779, 874], // minibus, school bus, trolleybus
  // bullet train, electric locomotive, freight car, passenger car, steam locomotive, streetcar
  train: [466, 547, 565, 705, 820, 829],
  // fire engine, garbage truck, moving van, pickup, tow truck, trailer truck
  truck: [...CAR_TRUCK_SHARED, 555, 569, 675, 717, 864, 867],
  // aircraft carrier, canoe, catamaran, container ship, fireboat, gondola, lifeboat, liner,
  // pirate ship, schooner, speedboat, submarine, trimaran, wreck, yawl
  boat: [403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 913, 914],
  'traffic light': [920],
  'fire hydrant': [],
  'stop sign': [919], // street sign
  'parking meter': [704],
  bench: [703], // park bench
  bird: [...span(7, 24), ...span(80, 100), ...span(127, 146)], // cock … great grey owl, grouse … goose, stork … albatross
  cat: span(281, 285), // tabby, tiger cat, Persian, Siamese, Egyptian cat
  dog: span(151, 268), // the 118 breeds, Chihuahua … Mexican hairless
  horse: [339], // sorrel
  sheep: [348], // ram
  cow: [345], // ox
  elephant: [101, 385, 386], // tusker, Indian elephant, African elephant
  bear: span(294, 297), // brown, American black, ice (polar), sloth bear
  zebra: [340],
  giraffe: [],
  backpack: [414],
  umbrella: [879],
  handbag: [748], // purse
  tie: [451, 457, 906], // bolo tie, bow tie, Windsor tie
  suitcase: [],
  frisbee: [],
  skis: [795],
  snowboard: [],
  // baseball, basketball, croquet ball, golf ball, ping-pong ball, rugby ball, soccer ball, tennis ball, volleyball
  'sports ball': [429, 430, 522, 574, 722, 768, 805, 852, 890],
  kite: [],
  'baseball bat': [],
  'baseball glove': [],
  skateboard: [],
  surfboard: [],
  'tennis racket': [752], // racket
  // beer bottle, bottle cap, pill bottle, pop bottle, water bottle, water jug, whiskey jug, wine bottle
  bottle: [440, 455, 720, 737, 898, 899, 901, 907],
  'wine glass': [572], // goblet
  cup: [441, 504, 647, 968], // beer glass, coffee mug, measuring cup, cup
  fork: [],
  knife: [499], // cleaver
  spoon: [910], // wooden spoon
  bowl: [659, 809], // mixing bowl, soup bowl
  banana: [954],
  apple: [948], // Granny Smith
  sandwich: [933], // cheeseburger
  orange: [950],
  broccoli: [937],
  carrot: [],
  'hot dog': [934],
  pizza: [963],
  donut: [],
  cake: [],
  chair: [423, 559, 765, 857], // barber chair, folding chair, rocking chair, throne
  couch: [831], // studio couch
  'potted plant': [738], // pot, flowerpot
  bed: [564], // four-poster
  'dining table': [532],
  toilet: [861], // toilet seat
  tv: [664, 782, 851], // monitor, screen, television
  laptop: [620, 681], // laptop, notebook computer
  mouse: [673],
  remote: [761],
  keyboard: [508, 810, 878], // computer keyboard, space bar, typewriter keyboard
  'cell phone': [487],
  microwave: [651],
  oven: [766, 827], // rotisserie, stove
  toaster: [859],
  sink: [896], // washbasin
  refrigerator: [760],
  book: [917, 921], // comic book, book jacket
  clock: [409, 530, 892], // analog, digital, wall clock
  vase: [883],
  scissors: [],
  'teddy bear': [850],
  'hair drier': [589],
  toothbrush: [],
};

/** KITTI/SqueezeDet names that are not COCO names, and the COCO class whose evidence they share. */
export const KITTI_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  pedestrian: 'person',
  cyclist: 'bicycle',
});

function frozen(table: Record<string, number[]>): Readonly<Record<string, readonly number[]>> {
  const entries = Object.entries(table).map(([k, v]) => [
    k,
    Object.freeze([...new Set(v)].sort((a, b) => a - b)),
  ]);
  return Object.freeze(Object.fromEntries(entries));
}

/**
 * For each detector class (the 80 COCO names and the KITTI aliases), the ImageNet-1k class indices
 * that denote the object, a subtype of it, or a part of it that a crop of it shows. Sorted. An
 * empty list means ImageNet cannot verify the class.
 */
export const COCO_TO_IMAGENET: Readonly<Record<string, readonly number[]>> = frozen({
  ...TABLE,
  ...Object.fromEntries(Object.entries(KITTI_ALIASES).map(([alias, coco]) => [alias, TABLE[coco] ?? []])),
});

/**
 * The wheeled vehicles that no detector class claims (WordNet wheeled_vehicle n04576211): amphibian,
 * barrow, forklift, go-kart, golf cart, half-track, horse cart, rickshaw, mobile home, oxcart, RV,
 * shopping cart, snowmobile, snowplow, tank, tractor, tricycle, unicycle. On a small or blurred road
 * crop the cloud mixes these up with cars, trucks and bikes. A rickshaw was the top-1, p 0.74, for
 * a half-hidden KITTI car.
 */
const OTHER_WHEELED = [
  408, 428, 561, 573, 575, 586, 603, 612, 660, 690, 757, 791, 802, 803, 847, 866, 870, 880,
];

/**
 * ImageNet answers that a correct detection of the class often gets and that still do not denote it.
 * A wolf for a husky, a horse cart for a horse, a bowl's contents for a bowl. They never confirm,
 * and they stop a rejection. Hand-picked, and only from indices that no class in
 * {@link COCO_TO_IMAGENET} claims, because a claimed index can never cause a rejection anyway.
 * Classes not listed have none.
 */
export const COCO_LOOKALIKES: Readonly<Record<string, readonly number[]>> = frozen({
  bicycle: [...OTHER_WHEELED, 488], // + chain
  cyclist: [...OTHER_WHEELED, 488],
  motorcycle: [...OTHER_WHEELED, 535], // + disc brake
  car: [...OTHER_WHEELED, 535, 685, 785], // + disc brake, odometer, seat belt
  truck: [...OTHER_WHEELED, 517, 595], // + crane, harvester
  bus: OTHER_WHEELED,
  airplane: [405, 812], // airship, space shuttle
  boat: [408, 449, 536, 693, 694], // amphibian, boathouse, dock, paddle, paddlewheel
  cat: [286, 287], // cougar, lynx
  dog: [...span(269, 280), 676], // wolves, coyote, dingo, dhole, hunting dog, hyena, foxes; muzzle
  horse: [603], // horse cart
  sheep: [349, 911], // bighorn, wool
  cow: [346, 347], // water buffalo, bison
  bear: [388], // giant panda
  handbag: [636, 893], // mailbag, wallet
  bottle: [966], // red wine
  'wine glass': [966], // red wine
  cup: [967, 969], // espresso, eggnog
  knife: [623], // letter opener
  spoon: [618], // ladle
  // Crock Pot, cauldron, mortar, guacamole, consomme, hot pot, trifle, ice cream, mashed potato, carbonara
  bowl: [469, 521, 666, 924, 925, 926, 927, 928, 935, 959],
  orange: [951], // lemon
  broccoli: [938], // cauliflower
  sandwich: [930, 931], // French loaf, bagel
  couch: [721, 750], // pillow, quilt
  bed: [431, 516, 520, 721, 750], // bassinet, cradle, crib, pillow, quilt
  'potted plant': [985, 986], // daisy, yellow lady's slipper
  'dining table': [526, 923], // desk, plate
  toilet: [731, 999], // plunger, toilet tissue
  tv: [527, 548, 598], // desktop computer, entertainment center, home theater
  laptop: [527, 590], // desktop computer, hand-held computer
  'cell phone': [528, 590, 605, 707], // dial telephone, hand-held computer, iPod, pay-phone
  oven: [544], // Dutch oven
  sink: [804], // soap dispenser
  book: [446, 453, 454, 624], // binder, bookcase, bookshop, library
  clock: [826], // stopwatch
  vase: [725], // pitcher
});

/**
 * ImageNet classes that say "a person fills this crop": the three person classes and what people
 * wear. Derived as the ImageNet classes under WordNet clothing (n03051540), headdress (n03502509)
 * and footwear (n03380867), without seat belt and Christmas stocking. Added by hand: armour,
 * masks, sunglasses, necklace, hair slide, neck brace. Riders, holders and passers-by fill crops
 * of many classes, so a crop like that neither confirms nor refutes the detection.
 */
export const PERSON_CUES: ReadonlySet<number> = new Set([
  ...[399, 400, 411, 433, 439, 443, 445, 451, 452, 457, 459, 461, 465, 474, 490, 501, 502, 514, 515, 518],
  ...[524, 529, 552, 560, 568, 570, 578, 584, 601, 608, 610, 614, 615, 617, 630, 638, 639, 643, 652, 655],
  ...[658, 667, 678, 679, 689, 697, 715, 735, 770, 774, 775, 793, 796, 806, 808, 824, 834, 836, 837, 841],
  ...[842, 869, 887, 903, 906, 981, 982, 983],
]);
