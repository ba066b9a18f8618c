"""The crisis second opinion: trains, persists, loads, and scores crisis above ordinary."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.crisis_second_opinion import CRISIS_TYPE, PROBABILITY, CrisisSecondOpinion

CRISIS = ["i want to end my life", "i keep thinking about killing myself",
          "i feel like shaking the baby", "my husband hit me and i am scared",
          "my baby is not breathing", "i have been cutting myself again"] * 3
ORDINARY = ["she only eats pasta", "how do i stop yelling at my son",
            "my toddler has tantrums at bedtime", "is screen time bad for a 3 year old",
            "thanks that helps", "hello there"] * 3


def test_trains_persists_and_scores(tmp_path):
    types = {"shaking": "crisis_harm_child", "hit me": "crisis_danger",
             "breathing": "crisis_danger"}
    examples = [Message(data={"text": t, "intent": next(
        (v for k, v in types.items() if k in t), "crisis_self_harm")}) for t in CRISIS] + \
        [Message(data={"text": t, "intent": "concern_yelling"}) for t in ORDINARY]
    storage = LocalModelStorage(tmp_path)
    resource = Resource("second_opinion")
    context = ExecutionContext(GraphSchema({}), "test")
    config = CrisisSecondOpinion.get_default_config()
    CrisisSecondOpinion.create(config, storage, resource, context).train(
        TrainingData(examples))
    loaded = CrisisSecondOpinion.load(config, storage, resource, context)
    danger, ordinary, empty = (Message(data={"text": t}) for t in
                               ("i want to kill myself", "she only eats pasta", "   "))
    loaded.process([danger, ordinary, empty])
    assert danger.get(PROBABILITY) > 0.5 > ordinary.get(PROBABILITY)
    assert empty.get(PROBABILITY) is None, "nothing to score"
    assert danger.get(CRISIS_TYPE) == "crisis_self_harm"
    other = Message(data={"text": "my baby is not breathing properly"})
    loaded.process([other])
    assert other.get(CRISIS_TYPE) == "crisis_danger"
